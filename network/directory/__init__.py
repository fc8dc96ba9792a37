"""Directory of competent national authorities (a minimal authority model here; the directory issue extends it)."""
