"""Rostering: carers matched to visits and their rounds planned, continuity first and travel cut."""
