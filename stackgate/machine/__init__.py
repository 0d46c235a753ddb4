"""The host: the Docker engine and compose plugin (`dockerd`), Debian packages (`apt`), and the airgap images
(`images`: the debootstrapped base and recipe-hashed builds; `airgap`: the stack's local images)."""
