planted by a submission
