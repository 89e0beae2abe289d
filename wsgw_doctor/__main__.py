"""``python -m wsgw_doctor`` runs the command line."""

from wsgw_doctor.cli import main

main()
