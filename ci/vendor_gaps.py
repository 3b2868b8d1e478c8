#!/usr/bin/env python3
"""Statuses the simulator answers on Uanataca that the vendor's document does not list.

usage: vendor_gaps.py [openapi/uanataca.json] [openapi/vendor/uanataca-one-shot.openapi.yaml]

Our document lists what the simulator answers (tests/http/openapi.rs and schemathesis keep
it so); the difference per operation is what docs/fidelity.md must name. Prints a Markdown
table, one row per operation, and the operations the vendor's document lacks.
"""
import json
import re
import sys

import yaml

ours_path = sys.argv[1] if len(sys.argv) > 1 else "openapi/uanataca.json"
vendor_path = sys.argv[2] if len(sys.argv) > 2 else "openapi/vendor/uanataca-one-shot.openapi.yaml"
ours = json.load(open(ours_path))
vendor = yaml.safe_load(open(vendor_path))


def shape(path):
    """A path with its parameters unnamed: the vendor says {request_pk} where we say {pk}."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def operations(doc):
    found = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                found[(method.upper(), shape(path))] = (path, {str(k) for k in op.get("responses", {})})
    return found


mine, theirs = operations(ours), operations(vendor)
print("| call | the vendor lists | the simulator also answers |")
print("| --- | --- | --- |")
for key in sorted(mine):
    path, statuses = mine[key]
    if key not in theirs:
        continue
    listed = theirs[key][1]
    extra = sorted(statuses - listed)
    if extra:
        print(f"| `{key[0]} {path}` | {', '.join(sorted(listed))} | {', '.join(extra)} |")
missing = [f"`{m} {mine[(m, p)][0]}`" for (m, p) in sorted(mine) if (m, p) not in theirs]
if missing:
    print()
    print("Calls the vendor's document lacks: " + ", ".join(missing) + ".")
