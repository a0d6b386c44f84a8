"""Tables the shared infrastructure keeps for both apps."""
