"""The image library: pictures editors upload, cleaned and made into responsive renditions
when they are uploaded (images.processing), stored in the default storage (local disk or
S3-compatible object storage) and shown as <picture> markup rendered when articles are
saved (images.markup). Below the articles app: it knows no article; articles name the
images they show."""
