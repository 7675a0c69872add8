"""What the interfaces share, below `api` and `web`: who is acting, what they may see, files, limits, settings.

`api` and `web` never import each other (DESIGN.md, Layers); both call the engine through
these, so a page and an endpoint see and refuse the same things.
"""
