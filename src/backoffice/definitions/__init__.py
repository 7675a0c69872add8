"""See DESIGN.md, Layers."""
