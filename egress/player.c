/* SPDX-License-Identifier: MIT */
/* player.c: embeds egress/player.html into the binary as player_html[] .. player_html_end
 * (NUL-terminated), so the worker serves GET /<path> without reading files at run time.
 * The Makefile makes this object depend on the HTML file. */
#include "egress/whep.h"

__asm__(".section .rodata\n"
        ".global player_html\n"
        ".type player_html, @object\n"
        "player_html:\n"
        ".incbin \"egress/player.html\"\n"
        ".global player_html_end\n"
        ".type player_html_end, @object\n"
        "player_html_end:\n"
        ".byte 0\n"
        ".previous\n");
