"""keel: the shared library every partner-credit service stands on."""
