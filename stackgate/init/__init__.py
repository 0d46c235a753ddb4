"""`stackgate init`: a first manifest generated from a site's compose files (and its running stack), and a drift
check of a hand-written manifest against what would be generated."""
