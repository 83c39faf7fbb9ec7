"""Spatial interlinking (JedAI-spatial's role): DE-9IM and distance links between two geospatial datasets."""
