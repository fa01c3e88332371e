"""The example site: every feature of b2_storage and b2_access on an embedded local B2 server."""
