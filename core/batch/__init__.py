"""Many renders in one go (``dia-studio batch``): a manifest read and checked whole, then its
renders run on one engine or several, resumably, with a report of each."""
