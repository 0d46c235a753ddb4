"""A stack's lifecycle behind one interface (`base`): Docker Compose (`compose`) and Docker Swarm (`swarm`), the
layout switch of a rollback (`rollback`), a run's project identity (`identity`), the reaper that removes a killed
run's project (`reaper`, `reaper_agent`) and the sweep of leftovers (`sweep`)."""
