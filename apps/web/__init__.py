"""The archivists' web pages: map, photo detail, upload, jobs, review."""
