"""Satellite imagery: source mosaics and the database tiles cut from them."""
