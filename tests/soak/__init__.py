"""The soak test (issue 13): uvicorn with 4 workers sharing Redis, a local B2 server in its own
process, a bounded loopback load of signed links, and uploads, reads and deletes through the
storage in another process, all at once; see :mod:`tests.soak.test_soak`."""
