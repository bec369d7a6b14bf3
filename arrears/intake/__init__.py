"""Operations intake: placement files become cases."""
