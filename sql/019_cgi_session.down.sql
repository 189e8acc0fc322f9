-- 019_cgi_session (down)
DROP FUNCTION auth_session_once(text, text, integer);
