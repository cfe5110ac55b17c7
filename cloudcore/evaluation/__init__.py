"""How good the fills and the ML mask are, measured against a truth."""
