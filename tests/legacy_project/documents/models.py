"""The site's documents: one file per kind of reader, as django-backblaze-b2 7.0.0 has them."""

from django.db import models
from django_backblaze_b2 import BackblazeB2Storage, LoggedInStorage, PublicStorage, StaffStorage


class Document(models.Model):
    title = models.CharField(max_length=200)
    attachment = models.FileField(upload_to="attachments", blank=True)
    brochure = models.FileField(upload_to="brochures", storage=PublicStorage, blank=True)
    handbook = models.FileField(upload_to="handbooks", storage=LoggedInStorage, blank=True)
    payroll = models.FileField(upload_to="payroll", storage=StaffStorage, blank=True)
    scan = models.FileField(
        upload_to="scans",
        storage=BackblazeB2Storage(
            opts={"allow_file_overwrites": True, "default_file_info": {"source": "scanner"}}
        ),
        blank=True,
    )

    def __str__(self):
        return self.title
