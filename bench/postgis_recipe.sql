-- postgis_recipe.sql -- the classic PostGIS overlay recipe (DESIGN.md section 6),
-- timed by bench/bench.py: union of all claim boundaries -> polygonize ->
-- count the claims that hold a point on the surface of each face.
-- Input: table claims(id, geom MultiPolygon EPSG:28992), loaded (untimed) with
-- ogr2ogr from the same merged claims that mapshaper reads.
-- Invalid claims are repaired first (as stapel does), so the counts are sound.
-- Output: table counted(fid, geom, n); faces with n = 0 are the holes between claims.
-- The last line printed is the backend's peak RSS (VmHWM, kB). Its CPU time (and that
-- of parallel workers) is taken from the postmaster's reaped-children times by bench.py.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP TABLE IF EXISTS v, faces, counted;

CREATE TABLE v AS
  SELECT id, ST_CollectionExtract(ST_MakeValid(geom, 'method=structure'), 3) AS geom
  FROM claims
  WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom);
CREATE INDEX ON v USING gist (geom);
ANALYZE v;

CREATE TABLE faces AS
  SELECT row_number() OVER () AS fid, geom
  FROM (SELECT (ST_Dump(ST_Polygonize(g))).geom AS geom
        FROM (SELECT ST_Union(ST_Boundary(geom)) AS g FROM v) AS u) AS d;

CREATE TABLE counted AS
  SELECT f.fid, f.geom, count(v.id) AS n
  FROM faces AS f
  LEFT JOIN v ON ST_Intersects(v.geom, ST_PointOnSurface(f.geom))
  GROUP BY f.fid, f.geom;

\pset tuples_only on
\pset format unaligned
SELECT 'vmhwm_kb=' || substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)');
