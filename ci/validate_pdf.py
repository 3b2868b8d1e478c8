#!/usr/bin/env python3
"""Validate signed PDFs with pyHanko, as a relying party would.

usage: validate_pdf.py CA.pem FILE.pdf [FILE.pdf ...]

Every signature of every file must be PAdES (ETSI.CAdES.detached), intact, valid and
trusted to CA.pem, cover the whole revision it signs, and carry a valid, trusted signature
timestamp. Exits non-zero, naming the file and the failed check, otherwise.
"""
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def check(path, context):
    failures = []
    with open(path, "rb") as handle:
        signatures = PdfFileReader(handle).embedded_signatures
        if not signatures:
            return [f"{path}: no signature"]
        for signature in signatures:
            sub_filter = signature.sig_object.get("/SubFilter")
            status = validate_pdf_signature(signature, context)
            print(f"{path}: {status.summary()}; timestamp: "
                  f"{status.timestamp_validity.summary() if status.timestamp_validity else 'none'}")
            checks = {
                "SubFilter is /ETSI.CAdES.detached": sub_filter == "/ETSI.CAdES.detached",
                "intact": status.intact,
                "valid": status.valid,
                "trusted": status.trusted,
                "has a signature timestamp": status.timestamp_validity is not None,
                "timestamp valid and trusted": bool(
                    status.timestamp_validity
                    and status.timestamp_validity.intact
                    and status.timestamp_validity.valid
                    and status.timestamp_validity.trusted
                ),
            }
            failures += [f"{path}: not {name}" for name, ok in checks.items() if not ok]
    return failures


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root = load_cert_from_pemder(sys.argv[1])
    # No network here: revocation information cannot be fetched and is not required.
    context = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
    failures = [f for path in sys.argv[2:] for f in check(path, context)]
    for failure in failures:
        print("FAIL", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
