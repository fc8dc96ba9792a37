"""Named access requirements on membership, used by views, templates and queries alike."""
from __future__ import annotations

from network.members.models import Application, Member


def is_member(member: Member) -> bool:
    return member.is_vetted


def is_moderator(member: Member) -> bool:
    return member.is_vetted and member.has_role("moderator")


def is_admin(member: Member) -> bool:
    return member.is_vetted and member.has_role("admin")


def is_focal_point(member: Member) -> bool:
    return member.is_vetted and bool(member.focal_point_authority_ids())


def can_vet_members(member: Member) -> bool:
    return is_moderator(member)


def can_manage_roles(member: Member) -> bool:
    return is_admin(member)


def can_browse_audit(member: Member) -> bool:
    return is_moderator(member) or is_admin(member)


def can_manage_members(member: Member) -> bool:
    return is_moderator(member) or is_admin(member)


def can_act_on_member(actor: Member, member: Member) -> bool:
    """Suspending, reinstating, closing the account of, or withdrawing a role from `member`: moderators act on
    members; only administrators act on moderators and administrators (a moderator cannot remove the people who
    could undo it)."""
    if is_admin(actor):
        return True
    return is_moderator(actor) and not (member.has_role("moderator") or member.has_role("admin"))


def can_reconfirm_members(member: Member) -> bool:
    return is_moderator(member) or is_focal_point(member)


def can_vouch_for(member: Member, application: Application) -> bool:
    return is_focal_point(member) and application.member.authority_id in member.focal_point_authority_ids()


# ---------------------------------------------------------------- the directory of authorities

def can_read_directory(member: Member) -> bool:
    """The directory is for vetted members only: contact details of officials are not public."""
    return is_member(member)


def can_propose_directory_change(member: Member, authority=None) -> bool:
    """A focal point keeps its own authority's entry current (any of them when no authority is named)."""
    if authority is None:
        return is_focal_point(member)
    return is_focal_point(member) and authority.id in member.focal_point_authority_ids()


def can_review_directory(member: Member) -> bool:
    return is_moderator(member)


TEMPLATE_RULES = {
    "is_member": is_member,
    "is_moderator": is_moderator,
    "is_admin": is_admin,
    "is_focal_point": is_focal_point,
    "can_vet_members": can_vet_members,
    "can_manage_roles": can_manage_roles,
    "can_browse_audit": can_browse_audit,
    "can_manage_members": can_manage_members,
    "can_act_on_member": can_act_on_member,
    "can_reconfirm_members": can_reconfirm_members,
    "can_read_directory": can_read_directory,
    "can_propose_directory_change": can_propose_directory_change,
    "can_review_directory": can_review_directory,
}
