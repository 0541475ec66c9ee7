"""An order workflow: pending, paid, shipped, delivered or cancelled."""
