"""Personal data at rest: master keys, per-case data keys, sealed personal data (issue 16)."""
