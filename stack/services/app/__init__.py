"""The stack's seven application services: small, real Starlette apps sharing one image."""
