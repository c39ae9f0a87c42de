#!/usr/bin/python3
"""Hold an exclusive SQLite lock on a GeoPackage, as a program that is still
writing it would, so that nobody else can read it.

    hold_lock.py GPKG SECONDS &

Takes the lock (BEGIN EXCLUSIVE), writes its process id to GPKG.locked once it
holds the lock, and keeps it for SECONDS or until killed. A CLI case waits for
GPKG.locked, runs stapel, and kills the holder in an 'after:' step.
"""
import os
import sqlite3
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
con = sqlite3.connect(path, isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
with open(path + ".locked.part", "w") as f:
    f.write(str(os.getpid()))
os.rename(path + ".locked.part", path + ".locked")
time.sleep(seconds)
con.execute("ROLLBACK")
con.close()
