#!/usr/bin/env bash
# Disks that are full or read-only, made as small tmpfs mounts.
#
# A full disk: stack, merge and render fail with exit 1, say that the disk is
# full (SQLite's own words are 'database or disk is full' at best, and 'no
# such table: gpkg_geometry_columns' when the disk fills while the file is
# created), and leave no file behind. The disk is a 300 kB tmpfs, filled
# to several levels so that the write fails at different steps.
#
# Mounting needs root (or CAP_SYS_ADMIN): elsewhere the test is skipped
# (exit 77); the file size limit case in cases.txt runs everywhere.
#
# A read-only disk: a stack GeoPackage in WAL mode there is read by summary
# and render (GDAL opens it again as immutable) without GDAL's warning about
# that retry, which they printed twice; an output there is refused with the
# system's reason.
#
#   disks.sh STAPEL SCRATCH
set -uo pipefail
stapel=$(readlink -f "$1"); scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
demo=$(cd "$here/../../testdata/demo" && pwd)
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
disk=$scratch/disk
mkdir -p "$disk"
mountpoint -q "$disk" && umount "$disk"
if ! mount -t tmpfs -o size=300k tmpfs "$disk" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (needs root)"
  exit 77
fi
trap 'umount "$disk"' EXIT

fails=0
check() { # what rc errfile [grep -E pattern]
  local what=$1 rc=$2 err=$3 want=$4
  local left
  left=$(find "$disk" -mindepth 1 ! -name fill ! -name 'keep*' ! -name 'wal.gpkg*' | head -3)
  if [ "$rc" = 1 ] && grep -qE "$want" "$err" && [ -z "$left" ]; then
    echo "ok   $what: $(tr '\n' ' ' < "$err")"
  else
    echo "FAIL $what (exit $rc, left: ${left:-nothing}): $(cat "$err")"
    fails=$((fails + 1))
  fi
}

stack_args=(--layer "nature=$demo/nature.shp" --layer "water=$demo/water.gpkg"
            --provinces "$demo/provinces.gpkg")
# The output is about 230 kB: with the disk filled to these levels it fails
# while the file is made, at the stack layer or at the last tables.
for k in 100 150 200 250; do
  dd if=/dev/zero of="$disk/fill" bs=1k count=$k 2>/dev/null
  "$stapel" stack -q -o "$disk/out.gpkg" "${stack_args[@]}" 2>"$scratch/err"
  check "stack, $k kB taken" $? "$scratch/err" \
    "^stapel: stack: cannot (write|create) '$disk/out.gpkg': .*; the disk that holds '$disk/out.gpkg' is full \([0-9]+ kB free\)$"
  rm -f "$disk/fill"
done

# merge: shards made elsewhere, the output on the full disk.
for i in 1 2; do
  "$stapel" stack -q --shard $i/2 --tile-vertices 200 -o "$scratch/p$i.gpkg" --overwrite \
    "${stack_args[@]}" || exit 2
done
dd if=/dev/zero of="$disk/fill" bs=1k count=150 2>/dev/null
"$stapel" merge -q -o "$disk/m.gpkg" "$scratch/p1.gpkg" "$scratch/p2.gpkg" 2>"$scratch/err"
check "merge" $? "$scratch/err" "the disk that holds '$disk/m.gpkg' is full"
rm -f "$disk/fill"

# An existing output stays as it was when its replacement does not fit.
"$stapel" stack -q -o "$disk/keep.gpkg" --layer "nature=$demo/nature.shp" || exit 2
sum=$(sha256sum < "$disk/keep.gpkg")
"$stapel" stack -q -o "$disk/keep.gpkg" --overwrite "${stack_args[@]}" 2>"$scratch/err"
check "stack --overwrite" $? "$scratch/err" "the disk that holds '$disk/keep.gpkg' is full"
if [ "$(sha256sum < "$disk/keep.gpkg")" != "$sum" ]; then
  echo "FAIL stack --overwrite changed the existing output"
  fails=$((fails + 1))
fi
rm -f "$disk/keep.gpkg"

# render writes its picture itself: the system's words.
dd if=/dev/zero of="$disk/fill" bs=1k count=250 2>/dev/null
"$stapel" render "$scratch/p1.gpkg" -o "$disk/map.png" 2>"$scratch/err"
check "render" $? "$scratch/err" "cannot write the picture '$disk/map.png': No space left on device"

rm -f "$disk"/*

# A read-only disk with a WAL GeoPackage.
"$stapel" stack -q -o "$disk/wal.gpkg" --layer "nature=$demo/nature.shp" \
  --provinces "$demo/provinces.gpkg" || exit 2
/usr/bin/python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL'); c.close()" "$disk/wal.gpkg" || exit 2
mount -o remount,ro "$disk" || exit 2
"$stapel" summary "$disk/wal.gpkg" --zone Flevoland >"$scratch/out" 2>"$scratch/err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$scratch/err" ] && grep -q '^province  *Flevoland' "$scratch/out"; then
  echo "ok   summary of a WAL GeoPackage on a read-only disk"
else
  echo "FAIL summary of a WAL GeoPackage on a read-only disk (exit $rc): $(cat "$scratch/err")"
  fails=$((fails + 1))
fi
"$stapel" render -q "$disk/wal.gpkg" -o "$scratch/wal.png" --overwrite 2>"$scratch/err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$scratch/err" ] && [ -s "$scratch/wal.png" ]; then
  echo "ok   render of a WAL GeoPackage on a read-only disk"
else
  echo "FAIL render of a WAL GeoPackage on a read-only disk (exit $rc): $(cat "$scratch/err")"
  fails=$((fails + 1))
fi
"$stapel" render "$disk/wal.gpkg" -o "$scratch/wal.png" --overwrite 2>"$scratch/err"
if grep -q "IMMUTABLE" "$scratch/err"; then
  echo "FAIL render warns about GDAL's immutable retry: $(cat "$scratch/err")"
  fails=$((fails + 1))
fi

# An output on the read-only disk: the system's reason, as root too (who
# may write any directory that is not read-only). It was '(is the directory
# writable?): DIR is not a writable directory'.
"$stapel" stack -q -o "$disk/ro.gpkg" --layer "nature=$demo/nature.shp" 2>"$scratch/err"
check "stack to a read-only disk" $? "$scratch/err" \
  "^stapel: stack: cannot create '$disk/ro.gpkg': directory '$disk' is not writable \(Read-only file system\)$"
"$stapel" merge -q -o "$disk/ro.gpkg" "$scratch/p1.gpkg" "$scratch/p2.gpkg" 2>"$scratch/err"
check "merge to a read-only disk" $? "$scratch/err" \
  "^stapel: merge: cannot create '$disk/ro.gpkg': directory '$disk' is not writable \(Read-only file system\)$"
"$stapel" render -q "$disk/wal.gpkg" -o "$disk/ro.png" 2>"$scratch/err"
check "render to a read-only disk" $? "$scratch/err" \
  "^stapel: render: cannot create '$disk/ro.png': directory '$disk' is not writable \(Read-only file system\)$"

echo "$fails failed"
[ "$fails" = 0 ]
