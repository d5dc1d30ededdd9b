"""Footprints: the ground polygon each photo shows, with provenance and full history."""
