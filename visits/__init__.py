"""Carer visits: care plans, check-ins and check-outs, and the log the home's sensors corroborate."""
