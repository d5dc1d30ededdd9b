"""Django apps of the platform. They never import ``workers`` or ``ml``: long work is enqueued by task name."""
