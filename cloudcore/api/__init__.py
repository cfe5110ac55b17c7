"""The front door's implementation: liberal inputs in, ecosystem types out (`cloudcore.__init__` exports it)."""
