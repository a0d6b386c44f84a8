"""The floor under both apps: caching, rate limits, client addresses, Persian text, site URLs,
emails, the audit log and admin helpers. It imports neither `petitions` nor `signatures`."""
