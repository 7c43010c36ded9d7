"""Drives the generated Jaqpot Python client (jaqpot-api-client-python, MIT; third-party, so it is
not in this repository: check it out anywhere) through every organization and invitation call
against a running `npm start`, as Jaqpot's own tooling would.

    python3 scripts/jaqpot-python-client.py --client-src <checkout>/src [--api http://127.0.0.1:3000]

Needs Python 3.9+ with pydantic 2, urllib3 and python-dateutil. Exits non-zero on the first failure.
"""
import argparse, os, subprocess, sys, uuid

parser = argparse.ArgumentParser()
parser.add_argument('--client-src', required=True, help='the src/ folder of a jaqpot-api-client-python checkout')
parser.add_argument('--api', default=os.environ.get('API', 'http://127.0.0.1:3000'))
args = parser.parse_args()
sys.path.insert(0, args.client_src)
import jaqpot_api_client as jc
from jaqpot_api_client.api.organization_api import OrganizationApi
from jaqpot_api_client.api.organization_invitation_api import OrganizationInvitationApi
from jaqpot_api_client.models.organization import Organization
from jaqpot_api_client.models.organization_visibility import OrganizationVisibility
from jaqpot_api_client.models.create_invitations_request import CreateInvitationsRequest
from jaqpot_api_client.models.organization_invitation import OrganizationInvitation
from jaqpot_api_client.models.partial_update_organization_request import PartialUpdateOrganizationRequest
from jaqpot_api_client.exceptions import ApiException

url = args.api
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
run = uuid.uuid4().hex[:8]

def token(sub, email):
    out = subprocess.run(['npm', 'run', '-s', 'token', '--', '--sub', sub, '--email', email, '--username', sub],
                         cwd=repo, capture_output=True, text=True, check=True)
    return out.stdout.strip()

def apis(tok):
    cfg = jc.Configuration(host=url, access_token=tok)
    client = jc.ApiClient(cfg)
    return OrganizationApi(client), OrganizationInvitationApi(client)

alice, bob = f'alice-{run}', f'bob-{run}'
bob_email = f'{bob}@example.com'
org_a, inv_a = apis(token(alice, f'{alice}@example.com'))
org_b, inv_b = apis(token(bob, bob_email))
checks = []
def ok(name): checks.append(name); print('ok  ', name)

name = f'org-{run}'
org_a.create_organization(Organization(name=name, contact_email='hello@acme.test', visibility=OrganizationVisibility.PRIVATE, description='An organization'))
ok('create_organization')
org = org_a.get_organization_by_name(name)
assert org.name == name and org.can_edit is True and org.id is not None, org
ok('get_organization_by_name')
mine = org_a.get_all_organizations_by_user()
assert any(o.name == name for o in mine), mine
ok('get_all_organizations_by_user')
mine = org_a.get_all_organizations_for_user()
assert any(o.name == name for o in mine)
ok('get_all_organizations_for_user')

inv_a.create_invitations(name, CreateInvitationsRequest(emails=[bob_email]))
ok('create_invitations')
invitations = inv_a.get_all_invitations(name)
assert len(invitations) == 1 and invitations[0].status == 'PENDING' and invitations[0].user_email == bob_email, invitations
ok('get_all_invitations')
inv_id = invitations[0].id
got = inv_b.get_invitation(name, inv_id)
assert got.id == inv_id and got.status == 'PENDING'
ok('get_invitation (invitee)')
inv_a.resend_invitation(org.id, inv_id)
ok('resend_invitation')

# Rename keeps the description when the client leaves it out (the client drops None fields).
new_name = f'renamed-{run}'
updated = org_a.partial_update_organization(org.id, PartialUpdateOrganizationRequest(name=new_name, contact_email='hello@acme.test', visibility=OrganizationVisibility.PRIVATE))
assert updated.name == new_name, updated
ok('partial_update_organization')
desc = org_a.get_organization_by_name(new_name).description
assert desc == 'An organization', f'PATCH without description changed it to {desc!r}'
ok('PATCH keeps the omitted description')

# The invitee answers through the emailed link, which names the old name.
assert inv_b.get_invitation(name, inv_id).id == inv_id
ok('get_invitation through the old name after a rename')
answered = inv_b.update_invitation(name, inv_id, OrganizationInvitation(user_email=bob_email, status='ACCEPTED', expiration_date=got.expiration_date))
assert answered.status == 'ACCEPTED', answered
ok('update_invitation')
org_b_view = org_b.get_organization_by_name(new_name)
assert org_b_view.is_member is True
ok('invitee is a member')
try:
    inv_a.resend_invitation(org.id, inv_id)
    raise SystemExit('resend of an accepted invitation should fail')
except ApiException as e:
    assert e.status == 400, e.status
    ok('resend of accepted → 400')
print(f'{len(checks)} passed, 0 failed')
