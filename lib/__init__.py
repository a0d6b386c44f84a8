"""What both apps use and neither owns; it imports neither of them."""
