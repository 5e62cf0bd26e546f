"""The panel's API routers, one module per page's worth of endpoints."""
