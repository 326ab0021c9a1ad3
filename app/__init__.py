"""cocreate: co-creating nature-based solutions across a network of cities."""
