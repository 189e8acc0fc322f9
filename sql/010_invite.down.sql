-- 010_invite (down)

DROP FUNCTION invitation_accept(text, uuid, text, text, inet, text);
DROP FUNCTION invitation_token_spent(text);
DROP TRIGGER team_members_invitation_token_spent ON team_members;
DROP FUNCTION invitation_token_spent_record();
DROP TABLE invitation_tokens_spent;
