"""Turn us-atlas's states-albers-10m.json (TopoJSON) into the SVG paths of the states map.

The shapes come from the US Census Bureau's cartographic boundaries (public domain), as packaged
and pre-projected (Albers USA, 975 × 610) by the npm package us-atlas 3.x (ISC licence). Run once:

    npm pack us-atlas@3.0.1 && tar xzf us-atlas-3.0.1.tgz
    python manage.py build_us_map package/states-albers-10m.json

and commit petitions/data/us_states.json; the site never fetches anything at run time.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

OUTPUT = Path(__file__).resolve().parents[2] / "data" / "us_states.json"

# Census FIPS state codes to USPS abbreviations, for the fifty states and DC.
FIPS_TO_USPS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE",
    "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA",
    "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN",
    "28": "MS", "29": "MO", "30": "MT", "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM",
    "36": "NY", "37": "NC", "38": "ND", "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI",
    "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA",
    "54": "WV", "55": "WI", "56": "WY",
}  # fmt: skip


def decode_arcs(topology):
    """Absolute coordinates of every arc: TopoJSON stores them quantized and delta-encoded."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(simplify(points))
    return arcs


def simplify(points, tolerance=0.3):
    """Douglas-Peucker on one arc, keeping its ends so that neighbouring states still meet."""
    if len(points) < 3:
        return points
    (x1, y1), (x2, y2) = points[0], points[-1]
    dx, dy = x2 - x1, y2 - y1
    length = (dx * dx + dy * dy) ** 0.5
    best, index = -1.0, 0
    for i in range(1, len(points) - 1):
        x, y = points[i]
        if length:
            distance = abs(dy * x - dx * y + x2 * y1 - y2 * x1) / length
        else:
            distance = ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
        if distance > best:
            best, index = distance, i
    if best <= tolerance:
        return [points[0], points[-1]]
    return simplify(points[: index + 1], tolerance)[:-1] + simplify(points[index:], tolerance)


def ring_points(ring, arcs):
    """A ring's points from its arc indexes; a negative index ~i means arc i reversed."""
    points = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        # Consecutive arcs share their joining point: keep it once.
        points.extend(arc if not points else arc[1:])
    return points


def path_data(geometry, arcs):
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points, last = [], None
            for x, y in ring_points(ring, arcs):
                point = (round(x, 1), round(y, 1))
                if point != last:
                    points.append(point)
                    last = point
            parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z")
    return "".join(parts)


class Command(BaseCommand):
    help = "Convert us-atlas states-albers-10m.json into petitions/data/us_states.json (SVG paths)."

    def add_arguments(self, parser):
        parser.add_argument("topojson", help="path to us-atlas's states-albers-10m.json")

    def handle(self, topojson, **options):
        topology = json.loads(Path(topojson).read_text())
        arcs = decode_arcs(topology)
        states = {}
        for geometry in topology["objects"]["states"]["geometries"]:
            code = FIPS_TO_USPS.get(geometry["id"])
            if code:
                states[code] = {"name": geometry["properties"]["name"], "d": path_data(geometry, arcs)}
        data = {
            "source": "US Census Bureau cartographic boundaries via us-atlas 3.0.1 (states-albers-10m)",
            "viewBox": "0 0 975 610",
            "states": dict(sorted(states.items())),
        }
        OUTPUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        self.stdout.write(f"Wrote {len(states)} shapes to {OUTPUT}")
