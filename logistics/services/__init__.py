"""Write services of logistics; each module is one area (rate cards, selection, labels, tracking)."""
