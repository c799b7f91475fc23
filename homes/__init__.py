"""Homes: organisations, homes, residents, circles of care and carer assignments, and who may see which."""
