"""Every decision about a download link lives here: request in, 302 / 403 / 405 / 503 out.

The middleware and the view decorators are thin adapters over :class:`DownloadResolver`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)

from b2_storage import (
    B2AccessRefused,
    B2FileNotFound,
    B2NameNotSealed,
    B2StorageError,
    B2Unavailable,
)

from .authorize import DownloadAuthorizer
from .conf import AccessSettings, current_signer, get_access_settings
from .exceptions import InvalidToken, TokenExpired, UnknownTier
from .responses import error_page, quiet, redirect_to_b2, unavailable
from .signing import Delivery, Grant, UrlSigner
from .storages import SignedB2Storage, find_storage, registered_storage
from .tiers import TierRegistry, tiers

logger = logging.getLogger(__name__)
SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Refusal:
    """Why a request for a link is refused: ``status`` 403 or 404 (rendered by the project's
    ``handler403``/``handler404``), 405, or a login redirect (``login``) for an anonymous user."""

    reason: str  # also sent as the X-B2-Access header: expired, invalid, tier, user, ...
    detail: str  # for the user, in words they understand (the 403 page's exception text)
    status: int = 403
    login: bool = False


@functools.cache
def shared_authorizer() -> DownloadAuthorizer:
    """Return the process's download authorizer (one token cache per process and settings)."""
    return DownloadAuthorizer.for_process(get_access_settings())


@functools.cache
def shared_resolver() -> DownloadResolver:
    """Return the process's resolver for the current settings (rebuilt when they change)."""
    return DownloadResolver.from_settings()


class DownloadResolver:
    """Check a signed link against the request's user and answer it."""

    def __init__(
        self,
        conf: AccessSettings,
        authorizer: DownloadAuthorizer,
        lookup: Callable[[str], SignedB2Storage | None] = find_storage,
        *,
        known: Callable[[str], SignedB2Storage | None] = registered_storage,  # no I/O: async
        tier_registry: TierRegistry = tiers,
        signer: UrlSigner | None = None,
    ) -> None:
        self.conf = conf
        self.prefix = conf.url_prefix
        self.authorizer = authorizer
        self.lookup, self.known, self.tiers = lookup, known, tier_registry
        self.signer = signer or current_signer()

    @classmethod
    def from_settings(cls) -> DownloadResolver:
        """Return a resolver configured by ``B2_ACCESS``, sharing the process's token cache."""
        return cls(get_access_settings(), shared_authorizer())

    def matches(self, path: str) -> bool:
        """Return whether ``path`` is under the prefix, on a path-segment boundary (cheap)."""
        return path.startswith(self.prefix)

    def parse(self, request: HttpRequest) -> Grant | Refusal:
        """Return the grant of a genuine link, or why it is refused (405 or 403). Pure."""
        if request.method not in SAFE_METHODS:
            logger.info("b2_access: 405 for %s", request.method)
            return Refusal("method", f"{request.method} is not allowed here.", status=405)
        token, _, name = request.path_info[len(self.prefix) :].partition("/")
        try:
            return self.signer.unsign(token, name)
        except TokenExpired:
            logger.info("b2_access: 403 expired link")
            return Refusal("expired", "This link has expired. Reload the page that gave it.")
        except InvalidToken:
            logger.info("b2_access: 403 invalid link")
            return Refusal("invalid", "This link is not valid.")

    def respond(self, request: HttpRequest) -> HttpResponse:
        """Answer a request for a signed link: 302 to B2, login redirect, 403, 405 or 503."""
        parsed = self.parse(request)
        if isinstance(parsed, Refusal):
            return self.refuse(request, parsed)
        return self.respond_to_grant(request, parsed)

    async def arespond(self, request: HttpRequest) -> HttpResponse:
        """The same answer under ASGI: a warm link is answered in the event loop; anything that
        needs I/O (a custom tier's query, a cold B2 token, the project's 403 page) runs in a
        worker thread. Both paths share :meth:`parse`, :meth:`judge` and the caches."""
        parsed = self.parse(request)
        if isinstance(parsed, Refusal):
            return await self.arefuse(request, parsed)
        tier = self.tiers.get(parsed.tier)
        storage = self.known(parsed.storage)
        auser = getattr(request, "auser", None)
        if tier is None or not tier.reads_only_user or storage is None or auser is None:
            return await sync_to_async(self.respond_to_grant)(request, parsed)
        request.user = await auser()  # loaded once, asynchronously; the checks read it
        refusal = self.judge(request, parsed.tier, parsed.user)
        if refusal is not None:
            return await self.arefuse(request, refusal)
        bound = parsed.user is not None  # a token for that one file (see respond_to_grant)
        url = self.authorizer.warm_url(storage, parsed.delivery, file_only=bound)
        if url is None:
            redirect = functools.partial(self.redirect, file_only=bound)
            return await sync_to_async(redirect)(request, storage, parsed.delivery)
        return self._redirected(storage, url)

    def respond_to_grant(self, request: HttpRequest, grant: Grant) -> HttpResponse:
        """Answer a genuine grant: check the tier (and bound user), then redirect to B2."""
        storage = self.lookup(grant.storage)
        if storage is None:
            logger.warning("b2_access: 403 link of an unknown storage %s", grant.storage)
            return self.refuse(request, Refusal("storage", "This link is not valid here."))
        refusal = self.check_access(request, grant.tier, grant.user)
        if refusal is not None:
            return refusal
        # A link bound to one user is for that one file, whatever the storage's scope.
        return self.redirect(request, storage, grant.delivery, file_only=grant.user is not None)

    def check_access(
        self, request: HttpRequest, tier_name: str, bound_user: str | None = None
    ) -> HttpResponse | None:
        """Return the refusal's response for this request, or ``None`` when the tier (and the
        bound user) let it through."""
        refusal = self.judge(request, tier_name, bound_user)
        return None if refusal is None else self.refuse(request, refusal)

    def judge(
        self, request: HttpRequest, tier_name: str, bound_user: str | None = None
    ) -> Refusal | None:
        """Return why this request may not follow the link, or ``None``. No rendering."""
        try:
            tier = self.tiers[tier_name]
        except UnknownTier:
            logger.error("b2_access: 403 unknown tier %r", tier_name)
            return Refusal("tier", "This link is not valid here.")
        user = getattr(request, "user", None)
        anonymous = user is None or not user.is_authenticated
        if bound_user is not None and (anonymous or str(getattr(user, "pk", "")) != bound_user):
            if anonymous:
                logger.info("b2_access: login redirect (bound user)")
                return Refusal("login", "Log in to open this file.", login=True)
            logger.info("b2_access: 403 link bound to another user")
            return Refusal("user", "This link was made for another account.")
        if tier.allows(request):
            return None
        if anonymous and tier.needs_login:
            logger.info("b2_access: login redirect (%s)", tier.name)
            return Refusal("login", "Log in to open this file.", login=True)
        logger.info("b2_access: 403 tier %s refused", tier.name)
        return Refusal("tier", "Your account may not open this file.")

    def refuse(self, request: HttpRequest, refusal: Refusal) -> HttpResponse:
        """Return the response for ``refusal``: a login redirect, a 405, or the 403 page."""
        if refusal.login:
            return self.login(request)
        if refusal.status == 405:
            return quiet(HttpResponseNotAllowed(SAFE_METHODS))
        return error_page(request, refusal.status, refusal.reason, refusal.detail)

    async def arefuse(self, request: HttpRequest, refusal: Refusal) -> HttpResponse:
        """:meth:`refuse` under ASGI: the project's 403 page may query, so it runs in a thread."""
        if refusal.login or refusal.status == 405:
            return self.refuse(request, refusal)
        return await sync_to_async(self.refuse)(request, refusal)

    def login(self, request: HttpRequest) -> HttpResponse:
        """Send an anonymous user to log in, then back to the link."""
        from django.contrib.auth.views import redirect_to_login  # needs the app registry

        login_url = str(self.conf.login_url or settings.LOGIN_URL)
        return redirect_to_login(request.get_full_path(), login_url)

    def redirect(
        self,
        request: HttpRequest,
        storage: SignedB2Storage,
        delivery: Delivery,
        *,
        file_only: bool = False,
    ) -> HttpResponse:
        """Return the 302 to B2 for a file the request may open (a genuine grant, or a view's
        own rule), or its 404/403/503."""
        try:
            url = self.authorizer.url(storage, delivery, file_only=file_only)
        except B2FileNotFound:  # a token for a missing name would open files saved later
            return self.refuse(request, Refusal("missing", "This file no longer exists.", 404))
        except B2NameNotSealed:  # logged once per window by the token cache
            detail = "This file cannot be shared safely right now; the site has been told."
            return self.refuse(request, Refusal("unsealed", detail))
        except B2AccessRefused as exc:  # logged once per back-off window by the authorizer
            return unavailable(exc.retry_after)
        except B2Unavailable as exc:  # B2 going down and back up is logged by its circuit
            logger.info("b2_access: 503 B2 unavailable for bucket %s", storage.config.bucket)
            return unavailable(exc.retry_after)
        except B2StorageError as exc:
            logger.error("b2_access: 503 B2 refused: %s", exc)
            return unavailable(30)
        except Exception:  # never a 500 for a genuine link: say "try again" and log it
            logger.exception(
                "b2_access: 503 unexpected failure for bucket %s", storage.config.bucket
            )
            return unavailable(30)
        return self._redirected(storage, url)

    @staticmethod
    def _redirected(storage: SignedB2Storage, url: str) -> HttpResponse:
        logger.debug("b2_access: 302 bucket %s", storage.config.bucket)
        return redirect_to_b2(url)
