"""Which pixels to remove: QA_PIXEL bits, the machine-learning mask, and one date's mask under a policy."""
