"""mudhub-sync: the reference gateway client. Signed profiles from mudhub (or a mirror) into a
directory a MUD manager reads, verified against the pinned aggregator certificate.

No Django: the standard library, cryptography/asn1crypto (through profiles.signing.verify) and
the pure codec. As in python-tuf, verifying (verify.py) is kept apart from fetching (fetch.py)
and from writing (store.py); client.py puts them in order.
"""
