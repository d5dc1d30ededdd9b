"""Astronaut photos and the batches (uploads) they arrive in."""
