"""Checks a message's DKIM signature with dkimpy, an independent verifier, against a DNS
record given on the command line instead of looked up:

    verify_dkim.py MESSAGE.eml NAME VALUE

NAME is where the record is published (`selector._domainkey.domain`), VALUE its text. Prints
PASS and exits 0 when the signature verifies, prints FAIL and exits 1 otherwise.
"""

import logging
import sys

import dkim


def main():
    path, name, value = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path, "rb") as f:
        message = f.read()

    def dnsfunc(asked, timeout=5):
        asked = asked.decode() if isinstance(asked, bytes) else asked
        # Only the published name answers: a signature naming another selector or domain fails.
        return value.encode() if asked.rstrip(".") == name else None

    # Why a signature fails goes to standard error, for the test's message.
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
    try:
        ok = dkim.DKIM(message, logger=logging.getLogger("dkim")).verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print("refused: %s" % e, file=sys.stderr)
        ok = False
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
