/*
 * The location-code grid (mã vị trí) of docs/codes.md, client side: encode a point, the
 * bounds of a cell, the cells covering a map view. Pure arithmetic, no map library.
 *
 * The grid is defined by its edges (docs/codes.md 1.2): edge(i) = low + (i * span) / N,
 * evaluated in IEEE-754 doubles in exactly that order, which is what JavaScript numbers
 * are; so these codes are bit-for-bit those of addresses/codes.py (the browser test
 * checks it against the Python reference).
 *
 * Browser: window.DiachisoGrid. Node: module.exports (for a quick check by hand).
 */
(function (root) {
  "use strict";

  const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
  const BASE = 31;
  const N = BASE ** 4; // 923,521 columns and rows
  const MAX_LENGTH = 8;
  const WEST = 102.0;
  const SOUTH = 5.5;
  const LON_SPAN = 16.0;
  const LAT_SPAN = 18.0;
  const PLACE = [BASE ** 3, BASE ** 2, BASE, 1];
  const UNIT = [BASE ** 4, BASE ** 3, BASE ** 2, BASE, 1];

  /** West edge of finest column i (south edge of row i): the grid's definition. */
  function edgeLon(i) {
    return WEST + (i * LON_SPAN) / N;
  }

  function edgeLat(i) {
    return SOUTH + (i * LAT_SPAN) / N;
  }

  /** The finest column (row) holding a coordinate, corrected against the exact edges. */
  function axisIndex(value, low, span, edge) {
    let index = Math.min(Math.floor((value - low) * (N / span)), N - 1);
    if (edge(index) > value) {
      index -= 1;
    } else if (edge(index + 1) <= value) {
      index += 1;
    }
    return index;
  }

  function inside(lon, lat) {
    return lon >= WEST && lon < WEST + LON_SPAN && lat >= SOUTH && lat < SOUTH + LAT_SPAN;
  }

  /** Cell width and height of a code with `length` data characters, in finest units. */
  function units(length) {
    return [UNIT[Math.ceil(length / 2)], UNIT[Math.floor(length / 2)]];
  }

  function checkValue(values) {
    let sum = 0;
    values.forEach((value, i) => {
      sum += (i + 1) * value;
    });
    return sum % BASE;
  }

  /** The canonical code (data characters + check) of finest column x and row y. */
  function spell(x, y, length) {
    const values = [];
    for (let i = 0; i < length; i += 1) {
      const axis = i % 2 === 0 ? x : y;
      values.push(Math.floor(axis / PLACE[Math.floor(i / 2)]) % BASE);
    }
    return values.map((v) => ALPHABET[v]).join("") + ALPHABET[checkValue(values)];
  }

  /** Location code of a WGS84 point, `length` data characters (1-8); null outside the box. */
  function encode(lon, lat, length = MAX_LENGTH) {
    if (!inside(lon, lat)) {
      return null;
    }
    const x = axisIndex(lon, WEST, LON_SPAN, edgeLon);
    const y = axisIndex(lat, SOUTH, LAT_SPAN, edgeLat);
    return spell(x, y, length);
  }

  /** Display form: groups of three joined by dashes ("8VG-DHS-6HB"). */
  function format(code) {
    const compact = String(code).replace(/[\s-]+/g, "").toUpperCase();
    return compact.match(/.{1,3}/g)?.join("-") ?? "";
  }

  /** Bounds [west, south, east, north] of the cell at column x, row y (south-west corner). */
  function cellBounds(x, y, length) {
    const [w, h] = units(length);
    return [edgeLon(x), edgeLat(y), edgeLon(x + w), edgeLat(y + h)];
  }

  /**
   * The cells of `length` covering a lon/lat box, as {code, bounds}; [] when there would be
   * more than `maxCells` (the caller then draws nothing rather than freezing the page).
   */
  function cover(west, south, east, north, length, maxCells = 2000) {
    const [w, h] = units(length);
    const clampLon = (v) => Math.min(Math.max(v, WEST), WEST + LON_SPAN - 1e-9);
    const clampLat = (v) => Math.min(Math.max(v, SOUTH), SOUTH + LAT_SPAN - 1e-9);
    const x0 = axisIndex(clampLon(west), WEST, LON_SPAN, edgeLon);
    const x1 = axisIndex(clampLon(east), WEST, LON_SPAN, edgeLon);
    const y0 = axisIndex(clampLat(south), SOUTH, LAT_SPAN, edgeLat);
    const y1 = axisIndex(clampLat(north), SOUTH, LAT_SPAN, edgeLat);
    const columns = Math.floor(x1 / w) - Math.floor(x0 / w) + 1;
    const rows = Math.floor(y1 / h) - Math.floor(y0 / h) + 1;
    if (columns * rows > maxCells) {
      return [];
    }
    const cells = [];
    for (let cx = Math.floor(x0 / w) * w; cx <= x1; cx += w) {
      for (let cy = Math.floor(y0 / h) * h; cy <= y1; cy += h) {
        cells.push({ code: spell(cx, cy, length), bounds: cellBounds(cx, cy, length) });
      }
    }
    return cells;
  }

  /** The cell of `length` holding a point: {code, bounds}, or null outside the box. */
  function cellAt(lon, lat, length = MAX_LENGTH) {
    if (!inside(lon, lat)) {
      return null;
    }
    const [w, h] = units(length);
    const x = axisIndex(lon, WEST, LON_SPAN, edgeLon);
    const y = axisIndex(lat, SOUTH, LAT_SPAN, edgeLat);
    const cx = Math.floor(x / w) * w;
    const cy = Math.floor(y / h) * h;
    return { code: spell(x, y, length), bounds: cellBounds(cx, cy, length) };
  }

  /** The cell of a canonical or typed code: {code, bounds}; null when it is not a valid location code. */
  function decode(text) {
    const code = String(text).replace(/[\s-]+/g, "").toUpperCase();
    const values = [...code].map((c) => ALPHABET.indexOf(c));
    if (code.length < 2 || code.length > MAX_LENGTH + 1 || values.includes(-1)) {
      return null;
    }
    const data = values.slice(0, -1);
    if (checkValue(data) !== values[values.length - 1]) {
      return null;
    }
    let x = 0;
    let y = 0;
    data.forEach((value, i) => {
      if (i % 2 === 0) x += value * PLACE[i / 2];
      else y += value * PLACE[(i - 1) / 2];
    });
    return { code, bounds: cellBounds(x, y, data.length) };
  }

  const api = { ALPHABET, MAX_LENGTH, encode, decode, format, cover, cellAt, inside };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.DiachisoGrid = api;
  }
})(typeof window === "undefined" ? globalThis : window);
