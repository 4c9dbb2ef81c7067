"""Erase one commenter's personal data, as WordPress's personal-data eraser does."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from comments import personal_data
from comments.models import PersonalDataRequest


class Command(BaseCommand):
    help = (
        "Anonymize every comment sent with EMAIL: the name becomes “Anonymous”, the email, its "
        "fingerprint and the browser are blanked and the IP address removed; the text stays. "
        "With --delete, the comments are deleted instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The commenter's email address (any letter case).")
        parser.add_argument("--delete", action="store_true", help="Delete the comments instead.")

    def handle(self, email, delete, **options):
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"“{email}” is not a valid email address.") from None

        with transaction.atomic():
            # The update and the deletion retire the pages that showed these comments.
            count = personal_data.erase(email, delete=delete)
            action = PersonalDataRequest.Action.DELETE if delete else PersonalDataRequest.Action.ANONYMIZE
            personal_data.record(action, email, count)
        verb = "Deleted" if delete else "Anonymized"
        noun = "comment" if count == 1 else "comments"
        self.stdout.write(self.style.SUCCESS(f"{verb} {count} {noun} by {email}."))
