"""Campaigns: audiences by predicted uplift with randomized holdouts, their launch record, measurement
of each campaign's lift, and the marketer page."""
