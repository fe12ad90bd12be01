#!/bin/sh
# make-demo.sh: makes etc/demo.h264, the looping demo clip of `make run` and the file-source
# tests: a moving test pattern with a running clock, 1280x720, 30 fps, H.264 constrained
# baseline, an IDR every 2 s (no scene-cut keyframes), SPS/PPS before every IDR, ~1.8 Mbit/s.
set -eu
out=${1:-$(dirname "$0")/demo.h264}
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
clock="drawtext=fontfile=$font:fontsize=64:fontcolor=white:box=1:boxcolor=black@0.6:x=40:y=40"
clock="$clock:text='ringcast %{pts\\:hms}'"
exec ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=12" \
    -vf "$clock,noise=alls=12:allf=t" \
    -c:v libx264 -preset medium -profile:v baseline -level 3.1 -pix_fmt yuv420p \
    -g 60 -keyint_min 60 -sc_threshold 0 -bf 0 \
    -b:v 1800k -maxrate 2000k -bufsize 2000k \
    -x264-params repeat-headers=1:aud=0 \
    -f h264 "$out"
