"""Synthetic Earth: satellite mosaics and astronaut photos with exact ground truth.

No satellite archive or astronaut photo collection can be downloaded where this runs, yet tests, the demo and
the accuracy benchmarks need data whose true footprints are known. See ml/synth/README.md.
"""
